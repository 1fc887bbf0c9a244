package models_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/internal/testref/tinygolden"
	"github.com/vggsim/vggsim/models"
)

// TestBindForm: the golden train state_dict binds the train form, the golden deploy one
// the deploy form; a checkpoint of another model gives a *FormError whose message is the
// train form's (the keys do not look fused), and one that looks fused gives the deploy
// form's.
func TestBindForm(t *testing.T) {
	c := tinygolden.Manifest(t)
	const tiny = "testdata/tiny_repvgg.yaml"
	_, train := tinygolden.StateDict(t, false)
	g, deploy, err := models.BindForm(tiny, models.Options{}, c.TrainKeys, train)
	require.NoError(t, err)
	assert.False(t, deploy)
	assert.Equal(t, "", models.FusedReason(c.TrainKeys))

	_, dep := tinygolden.StateDict(t, true)
	g2, deploy, err := models.BindForm(tiny, models.Options{}, c.DeployKeys, dep)
	require.NoError(t, err)
	assert.True(t, deploy)
	assert.Less(t, len(g2.Nodes), len(g.Nodes))
	assert.Equal(t, "rbr_reparam keys", models.FusedReason(c.DeployKeys))
	r, bn := models.FormKeys(c.TrainKeys)
	assert.Equal(t, "", r)
	assert.Equal(t, "stage0.rbr_dense.bn.running_var", bn)

	_, _, err = models.BindForm("RepVGG-A0", models.Options{}, c.TrainKeys, train)
	var fe *models.FormError
	require.True(t, errors.As(err, &fe), "%v", err)
	assert.Equal(t, "", fe.Fused)
	assert.Equal(t, fe.Train.Error(), err.Error())
	_, _, err = models.BindForm("RepVGG-A0", models.Options{}, c.DeployKeys, dep)
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "rbr_reparam keys", fe.Fused)
	assert.Equal(t, fe.Deploy.Error(), err.Error())

	_, _, err = models.BindForm("RepVGG-Z9", models.Options{}, c.TrainKeys, train)
	require.Error(t, err)
	assert.False(t, errors.As(err, &fe), "an unknown model is not a form error")
}
