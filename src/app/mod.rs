//! The application layer: the UDLL pipeline as stages and its end-to-end
//! run, the paper's tables (`reproduce`), the comparison of representation
//! learners (`compare`) and the related learners' runs (`related`), the
//! audit of a recorded run, and dataset descriptions.

pub mod assign;
pub mod audit;
pub mod compare;
pub mod describe;
pub mod fit;
pub mod landmarks;
pub mod merge;
pub mod pipeline;
pub mod plan;
pub mod related;
pub mod report;
pub mod reproduce;
pub mod run_dir;
pub mod select;
