"""The CPU a benchmark ran on, for its header: /proc/cpuinfo's name with the family and model, as
`dualpipe env` prints it. A VM's name alone ("AMD EPYC") does not tell one generation from
another, and the numbers differ between them."""
import platform


def cpu_description():
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break
                name, _, value = line.partition(":")
                fields.setdefault(name.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or "unknown CPU"
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name
