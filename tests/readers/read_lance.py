#!/usr/bin/env python3
"""Reads Strata's Agent Memory Lance datasets with pylance and prints what they hold as JSON.

Usage: read_lance.py ROOT   (a directory or an s3:// URI; S3 settings from the AWS_* variables)
Prints {"memories": [{memory_id, tenant_id, content, embedding}...], "cache": [{cache_id, prompt,
response}...]}, each sorted by id. A local dataset never written reads as empty; on S3 a missing
dataset is an error.
"""
import json
import os
import sys

import lance


def storage_options(uri):
    if not uri.startswith("s3://"):
        return None
    return {
        "aws_endpoint": os.environ["AWS_ENDPOINT_URL"],
        "aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"],
        "aws_region": os.environ.get("AWS_REGION", "us-east-1"),
        "allow_http": "true",
    }


def read(uri, columns, key):
    if not uri.startswith("s3://") and not os.path.isdir(uri):
        return []  # never written (e.g. no cache entry yet)
    ds = lance.dataset(uri, storage_options=storage_options(uri))
    rows = ds.to_table(columns=columns).to_pylist()
    return sorted(rows, key=lambda r: r[key])


def main():
    root = sys.argv[1].rstrip("/")
    out = {
        "memories": read(root + "/memories.lance", ["memory_id", "tenant_id", "content", "embedding"], "memory_id"),
        "cache": read(root + "/cache.lance", ["cache_id", "prompt", "response"], "cache_id"),
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
