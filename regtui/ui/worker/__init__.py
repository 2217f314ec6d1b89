"""The training worker: the thread bodies that drive core (a ``Run``, its branches, a sweep) and the messages they post.

Code here never touches a widget; it only posts messages (thread-safe).
"""
