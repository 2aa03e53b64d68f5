"""seqtag: Hydra-composed neural sequence taggers trained with PyTorch Lightning."""

__version__ = "0.1.0"
