"""The read API's queries (read-only over the indexer's, the intake's and the settler's tables) and models."""
