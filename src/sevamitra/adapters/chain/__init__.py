"""A public EVM chain through web3.py: anchors of log checkpoints sent and read."""
