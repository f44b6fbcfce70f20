//! Reports. For now the terminal table; one stream of case reports feeds it.

pub mod terminal;
