//! Timestamps in collection-loop lines and file names (formats reference §1.4).
