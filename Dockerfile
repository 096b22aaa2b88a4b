FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gridmap ./gridmap
COPY api ./api
COPY geodata ./geodata
RUN pip install --no-cache-dir . && (gridmap assets install || true)
EXPOSE 8000
CMD ["gridmap", "serve", "--host", "0.0.0.0", "--port", "8000"]
