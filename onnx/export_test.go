package onnx

// Internals the external tests use.
var (
	ExportStructure = export
	LEFloats        = leFloats
)
