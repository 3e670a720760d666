"""Speed benchmarks: the whole pipeline on the broker, the cluster core, faust's own floor."""
