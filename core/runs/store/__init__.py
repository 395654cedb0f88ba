"""The run folder's files: their one owner, checkpoints, the layer log, the scan of a folder of runs."""
