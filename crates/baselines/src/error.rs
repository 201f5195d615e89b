//! Errors of the baseline learners: rejected parameters and failed readout fits.

/// Why a baseline could not be built or its readout not be fitted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BaselineError {
    /// A parameter is outside its valid range; `field` is its name in the params struct.
    #[error("invalid parameter `{field}` = {value}: {reason}")]
    InvalidParam {
        /// Field name, as in the params struct (and its TOML/JSON key).
        field: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// The valid range.
        reason: &'static str,
    },
    /// The teacher (or a task) has no outputs to learn.
    #[error("nothing to learn: {0} outputs")]
    NoOutputs(usize),
    /// The ridge system (A + ridge I) W_out^T = B is not positive definite, so the Cholesky
    /// factorization failed (only possible with `ridge = 0` and too few or collinear samples).
    #[error(
        "ridge readout fit failed: (A + {ridge} I) is not positive definite after {n_samples} samples (pivot {pivot}); the previous readout is kept"
    )]
    RidgeNotPositiveDefinite {
        /// The ridge parameter used.
        ridge: f64,
        /// Training samples accumulated.
        n_samples: u64,
        /// Index of the first non-positive Cholesky pivot.
        pivot: usize,
    },
    /// A task was given too little data.
    #[error("task data: {0}")]
    TaskData(String),
}

impl BaselineError {
    pub(crate) fn param(
        field: &'static str,
        value: impl std::fmt::Display,
        reason: &'static str,
    ) -> Self {
        Self::InvalidParam {
            field,
            value: value.to_string(),
            reason,
        }
    }
}

/// Checks that `value` is finite and satisfies `ok`, naming `field` otherwise.
pub(crate) fn check(
    field: &'static str,
    value: f64,
    ok: bool,
    reason: &'static str,
) -> Result<(), BaselineError> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(BaselineError::param(field, value, reason))
    }
}
