//! Reports: the terminal table, and the client × check matrix.

pub mod matrix;
pub mod terminal;
