"""The call recorder compare_api.py and compare_objects.py share: each step records a label and
what the call returned (bytes as hex) or the libvirtError it raised (code, domain, message)."""
import libvirt


def recorder(record, transform=lambda value: value):
    """Returns step(label, fn): calls fn, appends [label, transform(result)] to record, returns the result."""
    def step(label, fn):
        try:
            value = fn()
        except libvirt.libvirtError as e:
            value = {"error": [e.get_error_code(), e.get_error_domain(), e.get_error_message()]}
        if isinstance(value, bytes):
            value = value.hex()
        record.append([label, transform(value)])
        return value
    return step
