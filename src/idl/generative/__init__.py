"""Task 3 (generative models: CAE, VAE, GAN): numbers the report leaves out.

The report shows Task 3 only as pictures; :mod:`idl.generative.scores` turns the
pictures into numbers a reader can compare (reconstruction error, distance between
generated and real image distributions, and how varied the samples are).
"""
