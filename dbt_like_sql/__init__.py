"""Plain DuckDB SQL models (staging, intermediate, marts, audits); this file only marks the folder."""
