"""Image descriptors: power spectrum, wavelet scattering and VGG Gram texture vectors."""
