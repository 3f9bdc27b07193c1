"""End-to-end runners built from the layers below: the demo, checkpoint evaluation, the ablation runner."""
