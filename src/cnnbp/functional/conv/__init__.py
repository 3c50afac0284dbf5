"""2-D convolution: forward, dC/dx and dC/dW by three algorithms (direct, im2col, fft)."""

from ._common import conv_output_size, pair, resolve_padding
