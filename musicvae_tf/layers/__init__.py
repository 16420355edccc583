"""Layers and schedules shared by the model families: the LSTM kernels and stack, step-by-step
autoregressive decoding, and the learning-rate / KL / sampling schedules."""
