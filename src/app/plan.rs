//! The run plan: whether a run is dense or in landmark mode (chosen
//! automatically when the dense state would not fit the memory budget),
//! how many restarts it makes, and the call that carries it out. The CLI
//! and the library's [`crate::app::fit`] both go through [`run_planned`].

use crate::app::landmarks::{LandmarkChoice, run_landmarks};
use crate::app::pipeline::{RunOptions, RunOutput, check_finetune_memory};
use crate::app::select::run_restarts;
use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::model::udll::{Method, ValidUdllParams};
use crate::progress::Observer;

/// Landmarks taken when the dense path does not fit and none were asked
/// for (fewer when 40·M² bytes would not fit either).
pub const LANDMARKS_WHEN_DENSE_DOES_NOT_FIT: usize = 2000;

/// What the caller asked of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Landmark mode with this many landmarks; None: dense when it fits,
    /// else landmark mode with [`LANDMARKS_WHEN_DENSE_DOES_NOT_FIT`].
    pub landmarks: Option<usize>,
    /// How landmarks are drawn (landmark mode only).
    pub landmark_choice: Option<LandmarkChoice>,
    /// Independent runs, the best kept by the label-free rule (1: one run).
    pub restarts: usize,
}

impl Default for Plan {
    fn default() -> Self {
        Plan { landmarks: None, landmark_choice: None, restarts: 1 }
    }
}

/// How a run of n images is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// All n images through fine-tuning and the n × n clustering.
    Dense,
    /// M landmarks fine-tuned and clustered, the rest placed by their codes.
    Landmarks {
        /// The number of landmarks.
        m: usize,
        /// How they are drawn.
        how: LandmarkChoice,
        /// Chosen because the dense path does not fit (not asked for).
        automatic: bool,
    },
}

impl Plan {
    /// The mode for `n` images under `params`, or why this plan cannot run.
    pub fn mode(&self, n: usize, params: &ValidUdllParams) -> Result<Mode> {
        let how = self.landmark_choice.unwrap_or_default();
        let mode = match self.landmarks {
            Some(m) => Mode::Landmarks { m, how, automatic: false },
            // EDSC clusters all n at once (and checks its own memory): a
            // sparse self-expression is its way past one n × n matrix.
            None if params.method == Method::Edsc => Mode::Dense,
            None => match check_finetune_memory(n) {
                Ok(()) => Mode::Dense,
                Err(_) => {
                    // Fine-tuning holds 16·M² bytes and the clustering 24·M².
                    let fits = ((crate::memory::budget()? / 40) as f64).sqrt() as usize;
                    Mode::Landmarks { m: LANDMARKS_WHEN_DENSE_DOES_NOT_FIT.min(n).min(fits), how, automatic: true }
                }
            },
        };
        match mode {
            Mode::Dense if self.landmark_choice.is_some() => Err(UdllError::config("a landmark choice needs landmark mode (a number of landmarks)")),
            Mode::Landmarks { automatic, .. } if self.restarts > 1 => Err(UdllError::config(format!(
                "{} restarts in landmark mode{}: restarts are dense-mode only for now; run one restart, or fewer images",
                self.restarts,
                if automatic { " (chosen because the dense path does not fit the memory budget)" } else { "" }
            ))),
            m => Ok(m),
        }
    }
}

/// Carry out `plan` on `ds`: the mode it resolves to, restarts when asked.
pub fn run_planned(ds: &Dataset, params: &ValidUdllParams, opts: &RunOptions, plan: &Plan, observer: &dyn Observer) -> Result<RunOutput> {
    match plan.mode(ds.n, params)? {
        Mode::Dense => run_restarts(ds, params, opts, plan.restarts, observer),
        Mode::Landmarks { m, how, automatic } => {
            if automatic {
                observer.line(&format!("landmark mode with {m} landmarks: the dense path on {} images does not fit the memory budget", ds.n));
            }
            run_landmarks(ds, params, opts, m, how, observer)
        }
    }
}

/// `s` of the indices 0..n drawn without replacement by the seed's
/// `fit-sample` stream, increasing: the images `udll run --fit-sample`
/// fits on.
pub fn sample_indices(n: usize, s: usize, seed: u64) -> Result<Vec<usize>> {
    if s < 2 || s > n {
        return Err(UdllError::config(format!("a sample of {s} from {n} images (2 to n)")));
    }
    Ok(crate::rng::Rng::stream(seed, "fit-sample").sorted_sample(n, s))
}
