"""Data contracts and helpers: samples, manifests, protocols, video decoding, caching."""
