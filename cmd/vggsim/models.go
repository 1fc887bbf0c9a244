package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/models"
)

// modelRow is one model of `vggsim models`; its JSON form is the documented output.
// conv_layers and activation_elems are of the deploy form (conv_layers is then the depth the
// RepVGG paper quotes: 22 for A0, 28 for B0); the _train variants are of the train form.
type modelRow struct {
	Name                 string `json:"name"`
	Input                [2]int `json:"input"` // H, W
	ParamsTrain          int64  `json:"params_train"`
	ParamsDeploy         int64  `json:"params_deploy"`
	MACsTrain            int64  `json:"macs_train"`
	MACsDeploy           int64  `json:"macs_deploy"`
	ConvLayers           int    `json:"conv_layers"`
	ConvLayersTrain      int    `json:"conv_layers_train"`
	ActivationElems      int64  `json:"activation_elems"`
	ActivationElemsTrain int64  `json:"activation_elems_train"`
}

const modelsDesc = `List the model zoo (or the given MODELs: zoo names or .yaml model files) with
parameter and multiply-accumulate counts of the train form (multi-branch, with BatchNorm)
and the deploy form (branches fused, BN folded into conv biases), per image.

params count nn.Parameters as PyTorch does (BN gamma and beta count, running statistics
do not); MACs count conv and linear multiply-accumulates, the "FLOPs" of the RepVGG paper
and torchvision. Convs is the deploy form's conv layer count; activations is the sum of
every layer's output elements for one image (train / deploy). The table truncates to two
decimals, as the RepVGG paper does; json and csv give exact integers.

--format json prints an array of objects with the fields name, input ([H, W]),
params_train, params_deploy, macs_train, macs_deploy, conv_layers (deploy form),
conv_layers_train, activation_elems (deploy form) and activation_elems_train; csv has the
same columns, with input as HxW.

A zoo model that cannot take the --input size (VGG-16 needs at least 32 pixels per side)
is skipped with a note; naming it explicitly makes that an input error.`

func cmdModels(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("models", "[MODEL ...] [--format table|json|csv] [--input-size H[xW]] [--classes N]", modelsDesc, stdout, stderr)
	format := fs.String("format", "table", "output `format`: table, json or csv")
	// The model flags without --form (both forms are counted), with this command's help text.
	mf := modelFlags{form: "train"}
	fs.StringVar(&mf.input, "input-size", "", "input image size `H[xW]` (default 224, or a model file's input)")
	deprecatedInput(fs)
	fs.IntVar(&mf.classes, "classes", 0, "classifier width (default 1000, or a model file's num_classes)")
	pos, code, ok := parseArgs(fs, args, 0, -1)
	if !ok {
		return code
	}
	if err := checkFormat(*format, "table", "json", "csv"); err != nil {
		return fail(stderr, "models", badInput(err))
	}
	o, err := mf.options()
	if err != nil {
		return fail(stderr, "models", badInput(err))
	}

	explicit := len(pos) > 0
	if !explicit {
		pos = models.Names()
	}
	rows := make([]modelRow, 0, len(pos))
	var skipped []error
	for _, arg := range pos {
		row, err := countModel(arg, o)
		if err != nil {
			if explicit {
				return fail(stderr, "models", badInput(err))
			}
			skipped = append(skipped, fmt.Errorf("skipping %s: %w", arg, err))
			continue
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 && len(skipped) > 0 {
		// No model takes these options (e.g. an input above the size limit): one error,
		// not a note per model.
		return fail(stderr, "models", badInput(errors.Unwrap(skipped[0])))
	}
	for _, err := range skipped {
		fmt.Fprintf(stderr, "vggsim models: %v\n", err)
	}

	switch *format {
	case "json":
		err = writeJSON(stdout, rows)
	case "csv":
		err = writeModelsCSV(stdout, rows)
	default:
		err = writeModelsTable(stdout, rows)
	}
	if err != nil {
		return fail(stderr, "models", err)
	}
	return exitOK
}

// countModel builds both forms of a MODEL argument and counts them.
func countModel(arg string, o models.Options) (modelRow, error) {
	o.Deploy = false
	g, err := models.Resolve(arg, o)
	if err != nil {
		return modelRow{}, err
	}
	o.Deploy = true
	d, err := models.Resolve(arg, o)
	if err != nil {
		return modelRow{}, err
	}
	ct, cd := models.Count(g), models.Count(d)
	in := g.Input().Shape
	return modelRow{
		Name:                 g.Name,
		Input:                [2]int{in.H, in.W},
		ParamsTrain:          ct.Params,
		ParamsDeploy:         cd.Params,
		MACsTrain:            ct.MACs,
		MACsDeploy:           cd.MACs,
		ConvLayers:           cd.ConvLayers,
		ConvLayersTrain:      ct.ConvLayers,
		ActivationElems:      cd.ActivationElems,
		ActivationElemsTrain: ct.ActivationElems,
	}, nil
}

// human formats n with a K/M/G suffix and two decimals, truncated (never rounded up).
func human(n int64) string {
	for _, u := range []struct {
		div  int64
		unit string
	}{{1_000_000_000, "G"}, {1_000_000, "M"}, {1_000, "K"}} {
		if n >= u.div {
			hundredths := n / (u.div / 100)
			return fmt.Sprintf("%d.%02d%s", hundredths/100, hundredths%100, u.unit)
		}
	}
	return strconv.FormatInt(n, 10)
}

// writeModelsTable writes an aligned table: names left-aligned, numbers right-aligned.
func writeModelsTable(w io.Writer, rows []modelRow) error {
	cells := [][]string{{"model", "input", "params(train)", "params(deploy)", "MACs(train)", "MACs(deploy)", "convs", "acts(train)", "acts(deploy)"}}
	for _, r := range rows {
		cells = append(cells, []string{r.Name, fmt.Sprintf("%dx%d", r.Input[0], r.Input[1]),
			human(r.ParamsTrain), human(r.ParamsDeploy), human(r.MACsTrain), human(r.MACsDeploy),
			strconv.Itoa(r.ConvLayers), human(r.ActivationElemsTrain), human(r.ActivationElems)})
	}
	width := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	for _, row := range cells {
		for i, c := range row {
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", width[i], c)
			} else {
				fmt.Fprintf(&b, "  %*s", width[i], c)
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeModelsCSV(w io.Writer, rows []modelRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"name", "input", "params_train", "params_deploy", "macs_train", "macs_deploy",
		"conv_layers", "conv_layers_train", "activation_elems", "activation_elems_train"})
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, r := range rows {
		cw.Write([]string{r.Name, fmt.Sprintf("%dx%d", r.Input[0], r.Input[1]), i(r.ParamsTrain), i(r.ParamsDeploy),
			i(r.MACsTrain), i(r.MACsDeploy), strconv.Itoa(r.ConvLayers), strconv.Itoa(r.ConvLayersTrain),
			i(r.ActivationElems), i(r.ActivationElemsTrain)})
	}
	cw.Flush()
	return cw.Error()
}
