//! Graphs over samples: exact kNN and the adaptive-neighbour prior graph.

pub mod knn;
pub mod prior_graph;
pub mod similarity;

pub use prior_graph::{PriorGraph, adaptive_neighbour_graph, check_graph_size};
