//! pooltag.txt and the built-in notes on kernel-object tags.
