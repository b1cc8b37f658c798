"""m2pos: Magento 2 orders into a point of sale, exactly once."""

__version__ = "0.1.0"
