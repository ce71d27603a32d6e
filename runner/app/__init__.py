"""The composition root: builds every concrete part from the settings and wires them."""
