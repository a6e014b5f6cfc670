"""Names of the estimator's fitted attributes, for the tests that compare fits.

Kept in one place so that a new attribute is added to every such test at
once. The list is written out here, not read from the estimator, so that the
tests check the documented attributes rather than whatever fit sets.
"""

FITTED_ARRAYS = (
    "components_",
    "intercept_hidden_",
    "decoder_components_",
    "intercept_visible_",
    "mean_activation_",
)

FITTED_ATTRIBUTES = FITTED_ARRAYS + (
    "loss_",
    "loss_curve_",
    "n_iter_",
    "n_features_in_",
)
