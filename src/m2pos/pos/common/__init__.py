"""Pieces every POS adapter needs, written once: cached look-ups (``cache``), SKU resolution
(``catalog``), customer matching (``customers``), helper products (``helpers``), document lines and
money (``plan``) and the notes text (``notes``). They know Magento's models and the port, never a
particular POS: each adapter supplies its own calls through small protocols."""
