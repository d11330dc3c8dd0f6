//! SIF files read as the specification lays them out. (Being written.)
