"""The lab's other views: decision maps (``b``), weights (``w``) and the sweep (``k``)."""
