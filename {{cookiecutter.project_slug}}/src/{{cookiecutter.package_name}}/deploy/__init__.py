"""Deployment to Kubernetes: the overlay rendered with the image by digest, rolled out, smoke-tested, undone
on failure (`cli rollout`, called by deploy.yml's staging and production jobs)."""
