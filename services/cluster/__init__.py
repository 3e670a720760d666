"""The cluster stage. Its core may run compiled (`compiled.use_build`, which the worker calls
when it starts): importing the package does nothing else."""
