"""The training loop (Trainer), its control, its policies, resume, pacing."""
