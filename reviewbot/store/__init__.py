"""The storage floor: database, job queue, pull state, published reviews, proof pages.

Behaviours (`reviewbot.bot`) and the composition roots (`reviewbot.service`,
`reviewbot.cli`) build on it; nothing here imports them.
"""
