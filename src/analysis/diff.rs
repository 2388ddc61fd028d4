//! Diff of two poolmon snapshots (ANALYSIS.md §6).
