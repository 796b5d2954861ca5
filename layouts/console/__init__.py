"""The operator console's panels: one module per panel, its layout and its callbacks.

They are not wall panels (``layouts/panels`` lists those, by file, for ``config.yaml``): a
console panel is for a desk screen at arm's length, built with dash-bootstrap-components,
and acts through ``layouts.ports.OperationsPort``.
"""
