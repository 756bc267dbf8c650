"""Cross-validation and performance studies; `glif-pynn compare` runs them and writes results/."""
