"""What the charts draw, Textual-free: downsampling, axis ticks, smoothing, the curve view,
seed bands, ghost curves and the variant colours.  Imports numpy (and the core's results) only.
"""
