//! docker-archive and oci-archive, read back by skopeo. (Being written.)
