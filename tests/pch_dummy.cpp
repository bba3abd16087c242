// Anchor source for the shared test precompiled header.
