"""The training worker: the bodies that drive core (a ``Run``, its branches, a sweep), the messages they post, and the child process a plain run trains in (``process``).

Code here never touches a widget; it only posts messages (thread-safe).
"""
