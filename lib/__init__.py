"""Small pure helpers that more than one app uses; they import nothing of ours (like healthchecks' hc/lib)."""
