// Package models is vggsim's model zoo: builders of ir graphs for RepVGG (A0–A2, B0–B3 with
// their g2/g4 variants, D2se), torchvision's ResNet-18/34/50/101/152 and VGG-16, custom
// RepVGGs from YAML, deterministic weight initialization, binding of PyTorch state dicts by
// their official names, and parameter/MAC counts.
//
// # Contract
//
// Build, BuildDeploy, Resolve and Spec.Build return verified graphs without parameters
// (Node.Params nil); building the whole zoo allocates no weights. InitWeights or Bind fill
// them. Node names are the reference state_dict prefixes, so the key of a parameter is
// Node.Key(param):
//
//   - RepVGG, train form: stage0.rbr_dense.conv, stage0.rbr_dense.bn, stage0.rbr_1x1.conv,
//     stage0.rbr_1x1.bn, stage1.0.rbr_identity (only when in == out and stride == 1), with
//     parameter-free nodes stageK.i.add and stageK.i.relu; head gap, flatten, linear.
//     Deploy form: stageK.i.rbr_reparam (conv3x3 with bias) and stageK.i.relu.
//     D2se adds stageK.i.se.{gap,down,relu,up,sigmoid,mul} before each block's ReLU, in both
//     forms.
//   - ResNet: conv1, bn1, relu, maxpool, layerK.i.{conv1,bn1,relu1,conv2,bn2,…,
//     downsample.0,downsample.1,add,relu}, avgpool, flatten, fc. Deploy form: each conv
//     gets a bias and its BatchNorm disappears (the BN is folded into the conv of the same
//     name).
//   - VGG-16: features.N (conv with bias, relu, maxpool at torchvision's indices), avgpool
//     (AdaptiveAvgPool2d((7, 7)), present only when the last feature map is not already
//     7×7, i.e. outside 224–255 pixels per side), flatten, classifier.0/1/3/4/6 (dropout
//     omitted). It has no BatchNorm, so both forms are equal. Inputs need at least 32 pixels
//     per side.
//
// The deploy graphs built here are the structural oracle for re-parameterization: a fused
// train graph must equal BuildDeploy's graph node for node.
//
// Every BatchNorm has eps 1e-5. The graph computes exactly what the reference forward does,
// in the same order: the add of a RepVGG block sums (dense + 1x1) + identity.
//
// # Counting rules
//
// See Counts: Params counts nn.Parameters (BatchNorm gamma and beta count, running
// statistics do not), MACs count conv and linear multiply-accumulates. The RepVGG paper
// reports deploy-form params truncated to two decimals (millions) and MACs rounded to 0.1 G
// at 224×224; torchvision reports train-form (BN) params and MACs of the same graphs.
// Deploy-form counts of any model come from BuildDeploy or DeployCounts, without the
// reparam package.
//
// # Names
//
// Zoo names match case-insensitively, ignoring '-', '_' and spaces, with or without the
// "RepVGG-" prefix: "a0", "RepVGG-B1g4", "repvgg_b1g4", "resnet18", "ResNet-18", "vgg16".
// An unknown name is an error naming the nearest model.
//
// # Model files
//
// A custom RepVGG is a YAML file whose keys mirror the reference constructor; see
// ParseSpec. testdata/tiny_repvgg.yaml is the golden tiny model.
package models
