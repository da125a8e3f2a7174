"""Teaching: the chain rule of a check node by node, exact and autograd's (``chain.explain``)."""
