//! A trainable tensor and its gradient. Layers own their `Param`s; the
//! optimiser walks them through [`HasParams`] without knowing layer types.

use crate::linalg::Real;

#[derive(Clone, Debug)]
pub struct Param<T> {
    pub name: String,
    pub shape: Vec<usize>,
    pub value: Vec<T>,
    pub grad: Vec<T>,
}

impl<T: Real> Param<T> {
    pub fn zeros(name: impl Into<String>, shape: &[usize]) -> Self {
        let len = shape.iter().product();
        Param { name: name.into(), shape: shape.to_vec(), value: vec![T::ZERO; len], grad: vec![T::ZERO; len] }
    }
    pub fn len(&self) -> usize {
        self.value.len()
    }
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
    pub fn zero_grad(&mut self) {
        self.grad.iter_mut().for_each(|g| *g = T::ZERO);
    }
}

/// Anything that owns parameters, in a fixed order (the optimiser's state
/// and the checkpoint follow that order).
pub trait HasParams<T: Real> {
    /// Every parameter, mutably (for the optimiser).
    fn params_mut(&mut self) -> Vec<&mut Param<T>>;
    /// Every parameter.
    fn params(&self) -> Vec<&Param<T>>;
    /// Set every gradient to zero.
    fn zero_grad(&mut self) {
        for p in self.params_mut() {
            p.zero_grad();
        }
    }
}
