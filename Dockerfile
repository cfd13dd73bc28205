# doctown with the distributed extra: one image for `doctown worker` and `doctown serve`.
# See docker-compose.yml and docs/distributed.md.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir ".[distributed]" && useradd --create-home doctown \
    && mkdir -p /var/lib/doctown/jobs && chown -R doctown /var/lib/doctown
USER doctown
EXPOSE 8003
CMD ["doctown", "serve", "--host", "0.0.0.0"]
