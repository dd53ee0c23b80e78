"""Tasks (what a prompt is for) and dataset loaders."""
