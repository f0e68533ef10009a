"""Prints what Python's Jinja2 (transformers renders chat templates with ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks) makes of these templates; ChatTemplateSandboxTest expects the same strings.
Run: python3 expected_with_jinja2.py (needs jinja2)."""
import os
os.chdir(os.path.dirname(os.path.abspath(__file__)))
import json
from jinja2.sandbox import ImmutableSandboxedEnvironment
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
def rx(m): raise Exception(m)
env.globals['raise_exception'] = rx
convs = {
 'conv': [{"role":"system","content":"  Be brief. "},{"role":"user","content":"Hi there"},{"role":"assistant","content":"Hello! "},{"role":"user","content":"/think What is 2+2?"}],
 'alt': [{"role":"user","content":" What is Inferium? "},{"role":"assistant","content":"An engine."},{"role":"user","content":"Thanks"}],
}
for name in ['llama3','mistral','qwen']:
  t = env.from_string(open(name+'.jinja').read())
  for c in convs:
    try:
      out = t.render(messages=convs[c], add_generation_prompt=True, bos_token='<s>', eos_token='</s>')
      print(name, c, json.dumps(out))
    except Exception as e:
      print(name, c, 'ERROR', e)
