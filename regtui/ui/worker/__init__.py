"""The training worker: the thread's body (training, sweeps, recording) and the messages it posts.

Code here never touches a widget; it only posts messages (thread-safe).
"""
