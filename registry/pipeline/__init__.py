"""The cultivation pipeline: candidate pools, batches, applications up the review chain, publicity, objections."""
