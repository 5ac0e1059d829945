"""The fault suite: property-based tests (Hypothesis) that bad input never causes a bare 500."""
